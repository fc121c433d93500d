"""Models: the LightGBM churn classifier and multi-treatment uplift models."""
