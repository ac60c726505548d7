"""What runs inside a job: the bootstrap, the side channel, and data-access capture.

``record_data_access`` records a dataset the automatic capture does not see; it is a
no-op outside ``pipetrail run``. Importing this package costs only standard-library
modules: pandas, Polars and PySpark are wrapped when (and only if) the job imports them.
"""

from pipetrail.sdk.data import record_data_access

__all__ = ["record_data_access"]
