"""A stand-in for AlibabaCloudModule in unit tests of runners: it records what the runner returns, warns and
masks, and ends the run (SystemExit) on exit_json and fail_json as Ansible does."""


class FakeModule(object):
    def __init__(self, params=None, client=None, check_mode=False, diff_mode=False, region=None,
                 scim_url="https://scim.example/scim/v2"):
        self.params = params or {}
        self.check_mode = check_mode
        self.diff_mode = diff_mode
        self.region = region
        self.scim_url = scim_url
        self._client = client
        self.warnings = []
        self.registered = []
        self.exited = self.failed = None

    def exit_json(self, **kwargs):
        self.exited = kwargs
        raise SystemExit(0)

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)

    def fail_from(self, error, **kwargs):
        """The module base explains the error; here the message only names the code and the message."""
        self.fail_json(msg="explained: %s: %s" % (error.code, error.message), **kwargs)

    def warn(self, message):
        self.warnings.append(message)

    def fail_on(self, problems):
        if problems:
            self.fail_json(msg=problems[0], changed=False)

    def register_secret(self, value):
        self.registered.append(value)

    def scim_endpoint(self, override=None, region=None):
        return override or self.scim_url

    def region_if_known(self):
        return self.region

    def client(self):
        return self._client
