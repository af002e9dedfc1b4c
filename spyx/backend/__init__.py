"""spyx.backend"""
