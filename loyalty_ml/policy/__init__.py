"""Policy: churn triggers (who to contact, how) and the offer policy (which reward, if any)."""
