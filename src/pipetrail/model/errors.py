"""Errors every layer raises; each carries a CloudTrail-style error code."""

from __future__ import annotations


class PipetrailError(Exception):
    """Base of every error Pipetrail raises on purpose."""

    code = "InternalFailure"
    exit_code = 1


class ValidationError(PipetrailError):
    """Input that cannot be accepted as it is."""

    code = "ValidationException"
    exit_code = 2


class NotFoundError(PipetrailError):
    """A run, job, or other entity that does not exist."""

    code = "EntityNotFoundException"
    exit_code = 4


class ConfigError(PipetrailError):
    """Configuration that cannot work: an unusable home directory, a bad database URL."""

    code = "ConfigurationException"
    exit_code = 3


class StoreError(PipetrailError):
    """The store could not be reached or answered with an error."""

    code = "StoreUnavailableException"
    exit_code = 3


class AccessDeniedError(PipetrailError):
    """The caller is not allowed to perform the action."""

    code = "AccessDenied"
    exit_code = 5


class ConflictError(PipetrailError):
    """The entity already exists, or the request conflicts with its current state."""

    code = "EntityAlreadyExistsException"
    exit_code = 2


class AuthenticationError(PipetrailError):
    """The request carries no credentials, or credentials that are not valid."""

    code = "UnrecognizedClientException"
    exit_code = 5


class PayloadTooLargeError(PipetrailError):
    """A request body larger than the limit of its route."""

    code = "RequestEntityTooLargeException"
    exit_code = 2


class ThrottlingError(PipetrailError):
    """Too many requests of a kind at once; try again later."""

    code = "ThrottlingException"
    exit_code = 1


class DeleteConflictError(ConflictError):
    """The entity cannot be deleted while others depend on it."""

    code = "DeleteConflictException"
