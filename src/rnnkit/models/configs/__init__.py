"""The models' configs, torch-free: a task config nests one (`CharLMConfig.model`), so that
`rnnkit train TASK --help` lists the model's flags without importing torch. Each model module
(`rnnkit.models.many_to_many`, …) re-exports its config from here.
"""
