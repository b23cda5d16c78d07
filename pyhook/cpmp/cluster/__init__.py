"""The cluster backend (CPMP_CLUSTER, --cluster): multiprocessing's Pool
and concurrent.futures' ProcessPoolExecutor run on a Dask cluster.  The
client side (_client, _pool, _executor, _space, _send, _local, _checks)
and what a worker runs (_worker).  Built on the core; imported only when
a pool is made with CPMP_CLUSTER set.  Not public.
"""
