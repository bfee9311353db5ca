"""Train the Curator DCNN head from AVA-format data and export a model file ``curator`` loads.

Imports the model from ``curator``; ``curator`` never imports this package.
"""
