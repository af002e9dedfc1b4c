"""spyx.profiles"""
