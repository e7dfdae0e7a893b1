"""Build the default node-type registry used by validation, the runner and the editor.

The registration order is the palette order: triggers first, then start, logic and outputs,
matching how a flow reads from left to right.
"""

from __future__ import annotations

from flows.nodes.base import NodeContext, NodeError, NodeResult, NodeType
from flows.nodes.condition import ConditionNode
from flows.nodes.delay import DelayNode
from flows.nodes.http_request import HttpRequestNode
from flows.nodes.llm import LlmNode
from flows.nodes.registry import NodeRegistry
from flows.nodes.reply import EndNode, ReplyNode
from flows.nodes.schedule_trigger import ScheduleTrigger
from flows.nodes.start import StartNode
from flows.nodes.switch import SwitchNode
from flows.nodes.template import TemplateNode
from flows.nodes.triggers import ApiTrigger, ManualTrigger, OpenAITrigger
from flows.nodes.variables import SetVariablesNode

registry = NodeRegistry()
for _node_type in (ApiTrigger(), OpenAITrigger(), ManualTrigger(), ScheduleTrigger(), StartNode(), LlmNode(),
                   HttpRequestNode(), TemplateNode(), SetVariablesNode(), ConditionNode(), SwitchNode(), DelayNode(),
                   ReplyNode(), EndNode()):
    registry.register(_node_type)
del _node_type

__all__ = ["NodeContext", "NodeError", "NodeRegistry", "NodeResult", "NodeType", "registry"]
