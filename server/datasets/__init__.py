"""Datasets: importing files into tables, and the tables themselves."""
