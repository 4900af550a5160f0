"""Code Rasa's server process loads (`rasa run`, `.venv`): the NLU components and the policy named in config.yml,
the tracker and lock stores named in endpoints.yml, and the speed patches the tracker store installs."""
