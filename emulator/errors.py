"""Error types and the Alibaba Cloud RPC error body.

Messages never contain a secret, a token or a signature: callers pass only identifiers.
"""

import json


class ApiError(Exception):
    """An Alibaba Cloud RPC error: HTTP status, error Code, Message (and optional extra body fields)."""

    def __init__(self, status, code, message, extra=None, headers=None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}
        self.headers = headers or {}


class ControlError(Exception):
    """A control-API error: answered as {"error": message} with this HTTP status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class DropConnection(Exception):
    """Close the client's socket without writing a response (fault injection)."""


def missing_parameter(name, code="MissingParameter"):
    return ApiError(
        400, code, f'The input parameter "{name}" that is mandatory for processing this request is not supplied.'
    )


def invalid_parameter(name, code="InvalidParameter", detail=None):
    msg = f'The specified parameter "{name}" is not valid.'
    if detail:
        msg += " " + detail
    return ApiError(400, code, msg)


def rpc_error_body(err, request_id, host_id, product=None):
    body = {
        "RequestId": request_id,
        "HostId": host_id,
        "Code": err.code,
        "Message": err.message,
        "Recommend": "https://api.aliyun.com/troubleshoot?q={}&product={}&requestId={}".format(
            err.code, product or "", request_id
        ),
    }
    body.update(err.extra)
    return body


class Response:
    """What a route handler returns; the server writes it with Content-Length (keep-alive friendly)."""

    def __init__(self, status=200, body=b"", content_type="application/json;charset=utf-8", headers=None,
                 error_code=None):
        self.status = status
        if isinstance(body, (dict, list)):
            body = json.dumps(body, separators=(",", ":")).encode("utf-8")
        elif isinstance(body, str):
            body = body.encode("utf-8")
        self.body = body
        self.content_type = content_type
        self.headers = dict(headers or {})
        self.error_code = error_code


def json_response(obj, status=200, headers=None, error_code=None):
    return Response(status, obj, headers=headers, error_code=error_code)
