"""The operations of Pipetrail, each an audited API action shared by the CLI and server.

Every public function here takes an :class:`~pipetrail.actions.context.ActionContext`,
performs one action (``GetJobRun``, ``GetLogEvents`` …) and records it in the trail
with the caller's identity, parameters and result or error code.
"""
