"""What travels through Redis between web, worker and clock: the connection, key names, RQ
classes, run jobs, resume timers and live run events. Redis carries ids; the database is the truth.
"""
