"""Issue 25 §6 (SRQ-9): how fast the knowledge base is searched in Chinese, measured, not assumed.

    .venv/bin/python bench/knowledge_search.py --n 20000                 # SQLite file under /tmp
    .venv/bin/python bench/knowledge_search.py --n 20000 --db postgres   # a throwaway cluster (scripts/pg-up.sh)

Builds N synthetic Chinese articles (titles, symptoms, causes and fixes drawn from the faults of video surveillance
systems, with model numbers) in a throwaway database, through the same column and index the app uses
(knowledge/index.py: FTS5 + bm25 on SQLite, GIN on PostgreSQL), then times, --repeat times each (median, p95, ms):
the search of the list page and the API (`selectors.search_articles`, the best 50) for a two-character word, a rare
two-character word, a four-character phrase, a model number and a mixed text; the same texts by a plain
``icontains`` scan over the article's text (what a search without the index would do); and the "related knowledge"
of a request (`matching.matching_articles`). Prints a Markdown table; nothing outside the throwaway database is
written.
"""

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

DEVICES = ["摄像机", "球机", "枪机", "硬盘录像机", "交换机", "门禁控制器", "解码器", "拼接屏", "服务器", "存储阵列",
           "报警主机", "光纤收发器", "读卡器", "电源适配器"]
FAULTS = ["黑屏", "离线", "花屏", "录像丢失", "硬盘报警", "画面模糊", "无法登录", "反复重启", "端口闪断", "偏色",
          "卡顿", "无信号", "蜂鸣", "误报", "不上电", "时间不同步", "无法回放", "丢包"]
CAUSES = ["电源老化", "网线接触不良", "供电不足", "固件缺陷", "配置被修改", "硬盘坏道", "散热不良", "雷击损坏",
          "环路", "地址冲突", "镜头脏污", "红外灯损坏"]
STEPS = ["检查供电电压", "重做水晶头", "更换网线", "重启设备", "升级固件", "清洁镜头", "更换硬盘", "恢复出厂设置",
         "检查交换机端口", "核对时间同步", "调整码率", "更换电源适配器", "检查防雷器", "重新下发权限"]
PLACES = ["大门口", "停车场", "机房", "三层走廊", "监控中心", "卡口", "电梯厅", "南广场"]
MAKERS = ["海康威视", "大华", "宇视", "华为", "H3C"]
MODELS = ["DS-2CD3T46WDV3-I3", "DH-IPC-HFW4433M", "IPC2124LB-SF40KM", "DS-9632N-I16", "DHI-NVR5864-4KS2",
          "S5735-L24P4S-A", "S5130S-28P-EI", "DS-K2604T", "DS-6916UD"]
RARE = "萤火"  # in exactly 10 articles

QUERIES = [
    ("two-character word (common)", "黑屏"),
    ("two-character word (rare)", RARE),
    ("four-character phrase", "录像丢失"),
    ("model number", "DS-9632N-I16"),
    ("mixed: word + model", "花屏 DH-IPC-HFW4433M"),
    ("no hit", "量子纠缠"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix=f"h25-knowledge-bench-{args.db}-"))
    pg_dir = None
    env = {"AFTERSALES_DATA_DIR": str(data_dir), "AFTERSALES_LOG_LEVEL": "WARNING",
           "DJANGO_SETTINGS_MODULE": "aftersales.settings", "AFTERSALES_DB": args.db}
    try:
        if args.db == "postgres" and not os.environ.get("AFTERSALES_DB_PORT"):
            pg_dir, port = Path(tempfile.mkdtemp(prefix="h25-knowledge-pg-")), free_port()  # pg-up.sh chowns it
            subprocess.run(["sh", str(ROOT / "scripts/pg-up.sh"), str(pg_dir), str(port)], check=True)
            env |= {"AFTERSALES_DB_HOST": "127.0.0.1", "AFTERSALES_DB_PORT": str(port), "AFTERSALES_DB_USER": "postgres",
                    "AFTERSALES_DB_NAME": "postgres"}
        os.environ.update(env)
        measure(args)
    finally:
        if pg_dir is not None:
            subprocess.run(["sh", str(ROOT / "scripts/pg-down.sh"), str(pg_dir)], check=False)
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


def timed(fn, repeat):
    runs, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        runs.append((time.perf_counter() - started) * 1000)
    runs.sort()
    return statistics.median(runs), runs[max(0, int(len(runs) * 0.95) - 1)], result


def measure(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from aftersales.accounts.models import User
    from aftersales.assets.models import Device, Manufacturer
    from aftersales.knowledge import matching, selectors
    from aftersales.knowledge.index import article_terms
    from aftersales.knowledge.models import Article, ArticleModel, model_keys

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrate: {time.perf_counter() - started:.1f} s ({connection.vendor})", file=sys.stderr)
    author = User.objects.create(username="bench_author", full_name="作者") if hasattr(User, "full_name") else \
        User.objects.create(username="bench_author")
    reviewer = User.objects.create(username="bench_reviewer")
    makers = [Manufacturer.objects.get_or_create(name=name)[0] for name in MAKERS]
    rng = random.Random(25)
    started = time.perf_counter()
    batch, keys = [], []
    for i in range(args.n):
        device, fault, place = rng.choice(DEVICES), rng.choice(FAULTS), rng.choice(PLACES)
        maker, model = rng.choice(makers), rng.choice(MODELS)
        title = f"{place}{device}{fault}" + (RARE if i % (args.n // 10) == 0 else "")
        symptom = f"{device}{fault},{rng.choice(FAULTS)}时有发生,影响{place}的监控。"
        cause = rng.choice(CAUSES)
        fix = "\n".join(rng.sample(STEPS, 3))
        article = Article(title=title, symptom=symptom, cause=cause, fix=fix, manufacturer=maker, device_models=model,
                          state="published", customer_visible=i % 3 == 0, author=author, reviewer=reviewer)
        article.search_terms = article_terms(title, symptom, cause, fix, model, maker.name)
        batch.append(article)
        if len(batch) == 2000:
            with transaction.atomic():
                Article.objects.bulk_create(batch)
            keys += [ArticleModel(article=a, key=k) for a in batch for k in model_keys(a.device_models)]
            batch = []
    if batch:
        with transaction.atomic():
            Article.objects.bulk_create(batch)
        keys += [ArticleModel(article=a, key=k) for a in batch for k in model_keys(a.device_models)]
    ArticleModel.objects.bulk_create(keys, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"built {args.n} articles: {time.perf_counter() - started:.1f} s", file=sys.stderr)

    staff = author
    everything = selectors.visible_articles(staff)
    rows = [f"### {args.n:,} articles, {connection.vendor} ({connection.Database.__name__} "
            f"{getattr(connection.Database, 'sqlite_version', '') or connection.cursor().connection.info.server_version})",
            "", "| search | hits (≤50) | index: median / p95 ms | icontains scan: median / p95 ms | scan hits (≤50) |",
            "|---|---|---|---|---|"]
    for label, text in QUERIES:
        idx_median, idx_p95, found = timed(lambda text=text: selectors.search_articles(everything, text), args.repeat)
        scan = lambda text=text: list(everything.filter(selectors.text_filter(text)).order_by("-updated_at", "-pk")[:50])
        scan_median, scan_p95, scanned = timed(scan, max(3, args.repeat // 3))
        rows.append(f"| {label} `{text}` | {len(found)} | {idx_median:.1f} / {idx_p95:.1f} | "
                    f"{scan_median:.1f} / {scan_p95:.1f} | {len(scanned)} |")
    device = Device(model="DS-9632N-I16", manufacturer_id=makers[0].pk)
    text = "停车场硬盘录像机录像丢失 回放时提示无录像文件"
    median, p95, found = timed(lambda: matching.matching_articles(staff, devices=[device], text=text), args.repeat)
    rows.append(f"| related knowledge of a request (model + words) | {len(found)} (≤5) | {median:.1f} / {p95:.1f} | – | – |")
    print("\n".join(rows))


if __name__ == "__main__":
    raise SystemExit(main())
