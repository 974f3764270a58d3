"""Typed errors that leave core; the API and the CLI turn them into problem details or one line."""


def reason_of(exc: BaseException) -> str:
    """The first line of an exception's message (of the driver's own error when a library wraps one)."""
    cause = getattr(exc, "orig", None)
    source = cause if isinstance(cause, BaseException) else exc
    lines = [line.strip() for line in str(source).splitlines() if line.strip()]
    return lines[0] if lines else type(source).__name__


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose.

    The message is one readable line that is safe to show: it never contains a secret.
    """


class ConfigError(GatewayError):
    """The settings (environment variables, key file) are missing or malformed."""


class DatabaseUnavailable(GatewayError):
    """The database cannot be reached or answered with an error."""


class SchemaOutOfDate(GatewayError):
    """The database schema is not at the revision this code expects."""


class KeyRingError(GatewayError):
    """A secret cannot be encrypted or decrypted with the configured key ring."""


class InvalidInput(GatewayError):
    """A request breaks a rule of the domain; `field` names the input at fault when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(GatewayError):
    """The thing asked for does not exist, or is outside the caller's view."""


class Conflict(GatewayError):
    """The request clashes with the stored state (a duplicate name, a stale version); `field` names the input."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class AuthenticationFailed(GatewayError):
    """No valid credentials: a missing, expired or wrong session, token or password."""


class PermissionDenied(GatewayError):
    """The caller can see the thing but may not do this to it."""


class TooManyAttempts(GatewayError):
    """A rate limit was hit; `retry_after` says in how many seconds to try again."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PreconditionRequired(GatewayError):
    """A write that must name the version it changes did not."""


class DirectoryUnavailable(GatewayError):
    """The LDAP directory cannot be reached."""


class TrackerRefused(GatewayError):
    """The ticket system refused what the gateway asked on the user's behalf (a key, a code, a worklog)."""


class TrackerUnavailable(GatewayError):
    """The ticket system did not answer, or failed; trying later may work."""
