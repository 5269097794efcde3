"""MFA API notebook kit: client, emulator, display and runner for Auth0's MFA API flows."""

__version__ = "0.1.0"
