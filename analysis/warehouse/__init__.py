"""Warehouse-native analysis: exposures and events read where they live, through Apache Spark."""
