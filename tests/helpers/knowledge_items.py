"""A knowledge-base item as YAML text, for tests that write a small knowledge base of their own."""
from __future__ import annotations

ITEM = """
  - id: {id}
    title: {title}
    variants: [{variants}]
    answer: 示例答案
    source: 当地公共就业服务机构
    last_reviewed: 2026-12-01
"""
