"""The HylaFAX job hook: a short process `faxq` starts for each job (see proxy.fax.hook).

It never imports the relay service or the wiring: it reads the config, the job
and its documents, scans them in-process and answers on stdout.
"""
