"""spyx.quant"""
