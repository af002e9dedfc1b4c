"""spyx.interop"""
