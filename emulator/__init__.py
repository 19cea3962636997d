"""Local emulator of the remote APIs used by the alicloud.cloudsso collection (not shipped in the artifact).

Standard library only; imports nothing from plugins/. See docs/emulator.md.
"""
