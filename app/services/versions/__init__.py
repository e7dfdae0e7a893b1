"""Flow versions: publish (save = publish), parse once per process, compare, present to pages and the API.
"""
