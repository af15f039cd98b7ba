//! Limits that hold across replicas: registration, anonymous participants, login throttle.
