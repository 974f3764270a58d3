"""Typed errors that leave core; the API and the CLI turn them into problem details or one line."""


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
