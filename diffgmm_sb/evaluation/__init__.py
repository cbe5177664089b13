"""Evaluation: metrics, the composite measures, the evaluator, enhancer adapters."""
