"""spyx.targets"""
