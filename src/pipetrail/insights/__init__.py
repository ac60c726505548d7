"""Job run insights: why a run failed and what changed since the last good run.

- :mod:`~pipetrail.insights.evidence` gathers what is known about a failed run;
- :mod:`~pipetrail.insights.jvm` reads the Spark/JVM root cause out of Py4J traces;
- :mod:`~pipetrail.insights.frames` finds the failing line in the user's own code;
- :mod:`~pipetrail.insights.rules` classifies the failure (a list of small rules);
- :mod:`~pipetrail.insights.analyse` assembles the insight;
- :mod:`~pipetrail.insights.compare` compares a run with another (what changed);
- :mod:`~pipetrail.insights.hook` runs all of it for every FAILED or TIMEOUT run.
"""
