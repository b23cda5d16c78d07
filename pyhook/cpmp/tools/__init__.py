"""The tools: cpmp doctor (_doctor, _cluster_doctor), cpmp kernel
(_kernel), their command-line parsing (_cli), and CPMP_TRACE (_trace,
wrapped into the pickler by cpmp._patch when tracing is on).  Built on the
core and the cluster backend, never imported by them.  Not public.
"""
