"""The knowledge layer: curated answers (data/knowledge/*.yml) and how a question finds one.

* `base` — the items and loading them (every file of the directory, one knowledge base);
* `lexical` — character n-gram matching and its threshold tuning;
* `retrieval` — lexical + dense (e5) scores together, and the decision: answer, offer a
  numbered choice between close topics, or nothing close;
* `replies` — the texts users see.

Nothing here knows Rasa or HTTP: the NLU component (bot/rasa_server/knowledge_retriever.py), the actions
and the evaluation scripts all call these functions.
"""
