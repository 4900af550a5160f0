"""The looking-for-work reply: trade and part-time wording, section order, WeChat's size limit."""
from __future__ import annotations

from datetime import datetime

import pytest

from bot.clock import SHANGHAI
from bot.services.job_fairs.model import FairKind, JobFair
from bot.services.job_search import JobSearchAnswer, render_job_search, wants_part_time
from bot.services.trades import find_trade
from bot.services.points.model import PointType, ServicePoint
from bot.services.points.query import PointHit
from bot.services.reply_size import byte_len


def hit(name: str, point_type: PointType, address: str = "某路1号", distance: float = 1200.0) -> PointHit:
    point = ServicePoint(id=name, name=name, type=point_type, city="济南市", district="历下区", address=address,
                         latitude=36.66, longitude=117.07, sample=True)
    return PointHit(point, distance, None)


@pytest.mark.parametrize(
    "text, trade",
    [("想找个电焊工的活", "电焊工"), ("有招焊工的吗", "焊工"), ("俺会开叉车", None), ("有没有叉车司机的活", "叉车司机"),
     ("我想找工作", None)],
)
def test_find_trade_prefers_the_longest_name(text, trade):
    assert find_trade(text) == trade


def test_part_time_words():
    assert all(wants_part_time(t) for t in ("附近有没有日结", "找点零活", "周末兼职", "临时工"))
    assert not any(wants_part_time(t) for t in ("找个电工的活", "想找稳定的工作"))


def test_part_time_lists_markets_before_fairs_and_others_the_reverse():
    fair = JobFair(id="f", title="示例：招聘会", kind=FairKind.ONSITE, city="济南市", district="", venue="馆",
                   starts_at=datetime(2030, 1, 5, 9, tzinfo=SHANGHAI), ends_at=datetime(2030, 1, 5, 12, tzinfo=SHANGHAI),
                   sample=True)
    points = [hit("零工甲", PointType.GIG_MARKET)]
    part_time = render_job_search(JobSearchAnswer(part_time=True, located=True, place_label="您", city="济南市", points=points, fairs=[fair]))
    general = render_job_search(JobSearchAnswer(located=True, place_label="济南市", city="济南市", points=points, fairs=[fair]))
    assert part_time.index("零工甲") < part_time.index("示例：招聘会")
    assert "【您附近的零工市场" in part_time and "【济南市近期招聘会】" in part_time
    assert general.index("示例：招聘会") < general.index("零工甲")
    assert "1月5日（周六）" in general and "标“示例”" in general


def test_long_entries_drop_points_to_fit_and_keep_the_channels():
    long_address = "很长的地址" * 60
    points = [hit(f"市场{i}", PointType.HR_MARKET, long_address) for i in range(3)]
    text = render_job_search(JobSearchAnswer(trade="电工", located=True, place_label="济南市", points=points))
    assert byte_len(text) <= 2048
    assert "市场0" in text and "市场2" not in text
    assert "中国公共招聘网" in text and "预约职业指导" in text
