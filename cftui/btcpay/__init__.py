"""btcpay"""
