"""The model code MLflow logs with the registered policy (MLflow's "models from code").

MLflow copies this file next to the model and runs it when the model is loaded; it names the pyfunc
class, so that nothing but the policy artifact is pickled (no cloudpickle of the class itself).
"""

import mlflow

from loyalty_ml.tracking.pyfunc import LoyaltyPolicyModel

mlflow.models.set_model(LoyaltyPolicyModel())
