"""Schedule triggers: exactly-once fires, timers, missed-run policies, and what the node shows.
"""
