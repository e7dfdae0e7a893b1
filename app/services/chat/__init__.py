"""Conversations: sessions that carry a chat across runs, and the OpenAI-compatible chat requests.
"""
