"""Workspaces and who acts in them: users, API keys, bearer tokens and encrypted credentials.
"""
