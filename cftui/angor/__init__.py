"""angor"""
