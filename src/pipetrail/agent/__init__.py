"""The remote agent: what ``pipetrail run`` uses when ``PIPETRAIL_URL`` and
``PIPETRAIL_TOKEN`` name a server.

The runner writes its records to a spool on disk (``spool.py``; writing there never
waits for the network), and a background thread ships the spool's batches to the
server (``shipper.py``, ``client.py``), which stores each batch exactly once. Batches
left by a runner that died are delivered by the next remote run or by
``pipetrail agent flush``.
"""
