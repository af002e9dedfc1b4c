"""spyx.nn"""
