"""python -m emulator: run the local emulator of every remote API the collection calls."""

import argparse
import os
import json
import sys

from .errors import ControlError
from .server import Emulator, log


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m emulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    p.add_argument("--state", metavar="FILE", help="load state from FILE and save it after every change")
    p.add_argument("--seed", metavar="FILE.json", help="seed document applied when the state is fresh")
    p.add_argument("--default-region", default="cn-shanghai", help="region of requests without /region/<id>")
    p.add_argument("--parent-pid", type=int, help="stop when this process is gone")
    p.add_argument("--idle-timeout", type=float, default=0,
                   help="stop after this many seconds without a request (0: never)")
    p.add_argument("--tls-cert", metavar="PEM", help="serve https with this certificate (chain) file")
    p.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert (default: in the same file)")
    p.add_argument("--url-file", metavar="FILE",
                   help="also write the URL to FILE once listening (for callers that cannot read stdout)")
    return p.parse_args(argv)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _write_url(path, url):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(url + "\n")

    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    if args.host not in LOOPBACK and not args.host.startswith("127."):
        # test credentials and secrets flow through this server: never expose it beyond this machine
        log(f"refusing to bind {args.host}: the emulator listens on loopback addresses only")
        return 2
    seed = None
    if args.seed:
        try:
            with open(args.seed, "r", encoding="utf-8") as fh:
                seed = json.load(fh)
        except (OSError, ValueError) as exc:
            log(f"cannot read the seed file: {type(exc).__name__}")
            return 2
    try:
        emu = Emulator(host=args.host, port=args.port, state_path=args.state, seed=seed,
                       default_region=args.default_region, parent_pid=args.parent_pid,
                       idle_timeout=args.idle_timeout, tls_cert=args.tls_cert, tls_key=args.tls_key)
    except ControlError as exc:
        log(f"bad seed: {exc.message}")
        return 2
    except (OSError, ValueError) as exc:
        log(f"cannot start: {type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}")
        return 1
    emu.install_signal_handlers()
    if args.url_file:
        emu.on_listening = lambda url: _write_url(args.url_file, url)
    emu.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
