//! The fake server's console routes (access token): the account (`/api/user/self`,
//! its `stats`), API tokens (`/api/token/`, `search`), the usage logs
//! (`/api/log/self`, its CSV `export` and `stat`, the operator lookup `/api/log/`) and
//! tasks (`/api/task/self`), with the filters and pagination the real console applies.

use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::{json, Value};

use super::{
    console_fail, console_ok, guarded, Auth, Call, FakeServer, Recorded, Reply, FIXED_CREATED,
};

/// The console knobs.
#[derive(Default)]
pub(super) struct Console {
    /// Generated rows for the log export (0: the five fixed logs).
    export_rows: AtomicUsize,
    /// The access token may not use the operator endpoint.
    not_operator: AtomicBool,
}

impl FakeServer {
    /// Make `/api/log/self/export` stream `rows` generated CSV rows (0: the five fixed
    /// logs). The body is produced lazily and sent chunked, never built in memory.
    pub fn set_export_rows(&self, rows: usize) {
        self.state.console.export_rows.store(rows, Ordering::SeqCst);
    }

    /// Whether the access token may use the operator endpoint `GET /api/log/` (default
    /// true). When false it answers 403 `{"success":false,"message":"no permission"}`.
    pub fn set_operator(&self, operator: bool) {
        self.state
            .console
            .not_operator
            .store(!operator, Ordering::SeqCst);
    }
}

/// The reply to a request for one of the routes here, `None` for any other path.
pub(super) fn route(call: &Call) -> Option<Reply> {
    let (req, console) = (call.req, &call.state.console);
    if req.method != "GET" {
        return None;
    }
    let reply: fn(&Recorded, &Console) -> Reply = match call.path {
        "/api/user/self" => |_, _| console_ok(user_self()),
        "/api/user/self/stats" => |_, _| console_ok(user_stats()),
        "/api/token/" => |req, _| console_ok(paginate(req, tokens())),
        "/api/token/search" => |req, _| token_search(req),
        "/api/log/self" => {
            |req, _| filtered_logs(req).map_or_else(|e| e, |logs| console_ok(paginate(req, logs)))
        }
        "/api/log/self/export" => |req, console| match console.export_rows.load(Ordering::SeqCst) {
            0 => filtered_logs(req).map_or_else(|e| e, |logs| logs_csv(&logs)),
            rows => generated_logs_csv(rows),
        },
        "/api/log/self/stat" => {
            |req, _| filtered_logs(req).map_or_else(|e| e, |logs| console_ok(log_stat(&logs)))
        }
        "/api/log/" => |req, console| {
            if console.not_operator.load(Ordering::SeqCst) {
                console_fail(403, "no permission")
            } else {
                log_by_request_id(req)
            }
        },
        "/api/task/self" => |req, _| {
            filtered_tasks(req).map_or_else(|e| e, |tasks| console_ok(paginate(req, tasks)))
        },
        _ => return None,
    };
    Some(guarded(req, Auth::Console, || reply(req, console)))
}

fn user_self() -> Value {
    json!({
        "id": 42,
        "username": "tester",
        "display_name": "Test User",
        "email": "tester@example.com",
        "role": 1,
        "status": 1,
        "quota": 2_500_000,
        "used_quota": 500_000,
        "request_count": 321,
        "group": "default",
    })
}

fn user_stats() -> Value {
    json!({
        "month_req_count": 321,
        "req_rate": 12.5,
        "month_usage": 1.0,
        "usage_rate": -8.3,
        "month_success_rate": 99.1,
        "predicted_days": 150,
    })
}

fn tokens() -> Vec<Value> {
    vec![
        json!({
            "id": 101, "name": "default",
            "key": "sk-Fk9wQ2mZr8TnLx4VbYc7JdHs3GpAe6Ku1NoWq5Ei0RtMzX9f3a",
            "status": 1, "remain_quota": 1_000_000, "used_quota": 250_000,
            "unlimited_quota": false, "created_time": 1_767_225_600,
            "accessed_time": 1_772_698_800, "expired_time": -1,
        }),
        json!({
            "id": 102, "name": "ci-pipeline",
            "key": "sk-Pq2Ls8Vn4Xc6Bz1Mk3Jh5Gf7Dd9Sa0Qw2Er4Ty6Ui8Op1c7c1d",
            "status": 1, "remain_quota": 0, "used_quota": 1_480_000,
            "unlimited_quota": true, "created_time": 1_767_139_200,
            "accessed_time": 1_772_546_710, "expired_time": 1_798_761_600,
        }),
        json!({
            "id": 103, "name": "old-experiment",
            "key": "sk-Zx7Cv5Bn3Mm1Lk9Jh8Gf6Dd4Ss2Aa0Qq1Ww3Ee5Rr7Tt9Yy0e5b",
            "status": 3, "remain_quota": 120_000, "used_quota": 380_000,
            "unlimited_quota": false, "created_time": 1_748_736_000,
            "accessed_time": 1_767_139_200, "expired_time": 1_767_225_600,
        }),
    ]
}

fn token_search(req: &Recorded) -> Reply {
    let keyword = req.param("keyword").unwrap_or_default();
    let hits: Vec<Value> = tokens()
        .into_iter()
        .filter(|t| {
            ["name", "key"]
                .iter()
                .any(|k| t[*k].as_str().is_some_and(|s| s.contains(&keyword)))
        })
        .collect();
    console_ok(Value::Array(hits))
}

/// `{"items","total","page","page_size"}` using `p` (1-based) and `page_size`.
fn paginate(req: &Recorded, items: Vec<Value>) -> Value {
    let page = req
        .param("p")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let page_size = req
        .param("page_size")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(10)
        .min(100);
    let total = items.len();
    let start = (page - 1).saturating_mul(page_size);
    let slice: Vec<Value> = items.into_iter().skip(start).take(page_size).collect();
    json!({"items": slice, "total": total, "page": page, "page_size": page_size})
}

// ---------------------------------------------------------------------------
// Console: logs and tasks
// ---------------------------------------------------------------------------

#[allow(clippy::too_many_arguments)]
fn log_entry(
    id: u64,
    created_at: i64,
    kind: u8,
    (model_name, token_name, group): (&str, &str, &str),
    (prompt_tokens, completion_tokens, quota): (u64, u64, i64),
    (use_time, is_stream): (u64, bool),
    request_id: &str,
    content: &str,
    other: Value,
) -> Value {
    json!({
        "id": id,
        "created_at": created_at,
        "type": kind,
        "model_name": model_name,
        "token_name": token_name,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "quota": quota,
        "use_time": use_time,
        "is_stream": is_stream,
        "request_id": request_id,
        "response_id": if kind == 2 { format!("chatcmpl-{request_id}") } else { String::new() },
        "group": group,
        "content": content,
        // `other` is a JSON object encoded as a string ("" when there is none).
        "other": if other.is_null() { String::new() } else { other.to_string() },
    })
}

#[allow(clippy::too_many_arguments)]
fn log_other(
    model_ratio: f64,
    completion_ratio: f64,
    group_ratio: f64,
    cache_tokens: u64,
    total_ms: u64,
    frt: u64,
    request_path: &str,
) -> Value {
    json!({
        "model_ratio": model_ratio,
        "completion_ratio": completion_ratio,
        "group_ratio": group_ratio,
        "model_price": -1,
        "cache_tokens": cache_tokens,
        "cache_ratio": 0.1,
        "total_ms": total_ms,
        "frt": frt,
        "request_path": request_path,
    })
}

/// Five log entries, newest first, 2026-03-01 .. 2026-03-05 UTC.
#[rustfmt::skip]
fn logs() -> Vec<Value> {
    vec![
        log_entry(5005, 1_772_698_800, 2, ("deepseek-v4-pro", "ci-pipeline", "vip"),
            (5000, 1250, 1980), (6, true), "req-log-0005",
            "model ratio 0.22, completion ratio 4, group ratio 0.9",
            log_other(0.22, 4.0, 0.9, 1024, 6210, 480, "/v1/chat/completions")),
        log_entry(5004, 1_772_642_730, 5, ("gemini-2.5-pro", "default", "default"),
            (0, 0, 0), (2, false), "req-log-0004",
            "upstream error: status 503, model is overloaded",
            log_other(0.5, 8.0, 1.0, 0, 2050, 0, "/v1beta/models/gemini-2.5-pro:generateContent")),
        log_entry(5003, 1_772_546_710, 2, ("claude-sonnet-4-6", "ci-pipeline", "default"),
            (3400, 820, 9000), (4, false), "req-log-0003",
            "model ratio 1.2, completion ratio 5, group ratio 1",
            log_other(1.2, 5.0, 1.0, 0, 4380, 1320, "/v1/messages")),
        log_entry(5002, 1_772_447_400, 2, ("gpt-5.4", "default", "default"),
            (1200, 350, 2500), (3, true), "req-log-0002",
            "model ratio 0.625, completion ratio 8, group ratio 1",
            log_other(0.625, 8.0, 1.0, 256, 2840, 612, "/v1/chat/completions")),
        log_entry(5001, 1_772_356_500, 1, ("", "", "default"), (0, 0, 5_000_000), (0, false),
            "req-log-0001", "Top-up via Stripe: $10.00", Value::Null),
    ]
}

fn parse_int_param(req: &Recorded, name: &str) -> Result<Option<i64>, Reply> {
    match req.filter(name) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| console_fail(200, &format!("invalid parameter {name}: {v}"))),
    }
}

fn matches_str(item: &Value, field: &str, wanted: &Option<String>) -> bool {
    wanted
        .as_ref()
        .is_none_or(|w| item[field].as_str() == Some(w.as_str()))
}

fn in_range(ts: Option<i64>, start: Option<i64>, end: Option<i64>) -> bool {
    let ts = ts.unwrap_or(0);
    start.is_none_or(|s| ts >= s) && end.is_none_or(|e| ts <= e)
}

/// Logs after the `/api/log/self` filters; type 0 (or absent) means all types.
fn filtered_logs(req: &Recorded) -> Result<Vec<Value>, Reply> {
    let kind = parse_int_param(req, "type")?.filter(|t| *t != 0);
    let start = parse_int_param(req, "start_timestamp")?;
    let end = parse_int_param(req, "end_timestamp")?;
    let model = req.filter("model_name");
    let token = req.filter("token_name");
    let group = req.filter("group");
    let request_id = req.filter("request_id");
    Ok(logs()
        .into_iter()
        .filter(|l| kind.is_none_or(|k| l["type"].as_i64() == Some(k)))
        .filter(|l| in_range(l["created_at"].as_i64(), start, end))
        .filter(|l| matches_str(l, "model_name", &model))
        .filter(|l| matches_str(l, "token_name", &token))
        .filter(|l| matches_str(l, "group", &group))
        .filter(|l| matches_str(l, "request_id", &request_id))
        .collect())
}

fn csv_field(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn logs_csv(logs: &[Value]) -> Reply {
    const COLUMNS: [&str; 12] = [
        "created_at",
        "type",
        "model_name",
        "token_name",
        "prompt_tokens",
        "completion_tokens",
        "quota",
        "use_time",
        "is_stream",
        "request_id",
        "group",
        "content",
    ];
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for log in logs {
        let row: Vec<String> = COLUMNS.iter().map(|c| csv_field(&log[*c])).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    Reply::raw(200, "text/csv; charset=utf-8", out).header(
        "Content-Disposition",
        "attachment; filename=\"logs.csv\"".into(),
    )
}

const EXPORT_HEADER: &str = "created_at,type,model_name,token_name,prompt_tokens,\
completion_tokens,quota,use_time,is_stream,request_id,group,content\n";

/// `rows` generated log rows after the header, produced as they are read.
struct GeneratedRows {
    next: usize,
    rows: usize,
    line: Vec<u8>,
    pos: usize,
}

impl GeneratedRows {
    /// Row `n` (1-based): about 120 bytes, one quoted field with a comma.
    fn row(n: usize) -> String {
        format!(
            "{},2,gpt-5.4,default,{},{},{},3,true,req-export-{n:08},default,\
             \"model ratio 0.625, completion ratio 8, group ratio 1\"\n",
            FIXED_CREATED - n as i64,
            1000 + n % 1000,
            200 + n % 300,
            2000 + n % 5000,
        )
    }
}

impl Read for GeneratedRows {
    /// Fills `buf` with as many lines (or parts of one) as fit.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            if self.pos == self.line.len() {
                if self.next > self.rows {
                    break;
                }
                self.line = match self.next {
                    0 => EXPORT_HEADER.as_bytes().to_vec(),
                    n => GeneratedRows::row(n).into_bytes(),
                };
                self.pos = 0;
                self.next += 1;
            }
            let n = (buf.len() - filled).min(self.line.len() - self.pos);
            buf[filled..filled + n].copy_from_slice(&self.line[self.pos..self.pos + n]);
            self.pos += n;
            filled += n;
        }
        Ok(filled)
    }
}

fn generated_logs_csv(rows: usize) -> Reply {
    let mut reply = Reply::raw(200, "text/csv; charset=utf-8", String::new()).header(
        "Content-Disposition",
        "attachment; filename=\"logs.csv\"".into(),
    );
    reply.stream = Some(Box::new(GeneratedRows {
        next: 0,
        rows,
        line: Vec::new(),
        pos: 0,
    }));
    reply
}

fn log_stat(logs: &[Value]) -> Value {
    let quota: i64 = logs
        .iter()
        .filter(|l| l["type"].as_i64() == Some(2))
        .filter_map(|l| l["quota"].as_i64())
        .sum();
    json!({"quota": quota, "rpm": 2, "tpm": 1550})
}

/// The operator lookup: the `/api/log/self` filters, and `request_id` is required.
fn log_by_request_id(req: &Recorded) -> Reply {
    if req.filter("request_id").is_none() {
        return console_ok(paginate(req, Vec::new()));
    }
    filtered_logs(req).map_or_else(|e| e, |hits| console_ok(paginate(req, hits)))
}

#[rustfmt::skip]
fn tasks() -> Vec<Value> {
    let task = |id: u64, at: i64, platform: &str, task_id: &str, action: &str, status: &str,
                model: &str, progress: &str, quota: i64, finish: i64, fail_reason: &str| {
        json!({
            "id": id, "created_at": at, "platform": platform, "task_id": task_id,
            "action": action, "status": status, "model_name": model, "progress": progress,
            "quota": quota, "submit_time": at, "finish_time": finish, "fail_reason": fail_reason,
        })
    };
    vec![
        task(903, 1_772_712_000, "kling", "task_kling_0003", "text2video", "IN_PROGRESS",
            "kling-v2-master", "45%", 200_000, 0, ""),
        task(902, 1_772_616_600, "mj", "task_mj_0002", "IMAGINE", "FAILURE", "mj_imagine",
            "100%", 0, 1_772_616_660, "prompt rejected by moderation"),
        task(901, 1_772_449_200, "suno", "task_suno_0001", "MUSIC", "SUCCESS", "suno-v4",
            "100%", 50_000, 1_772_449_295, ""),
    ]
}

fn filtered_tasks(req: &Recorded) -> Result<Vec<Value>, Reply> {
    let start = parse_int_param(req, "start_timestamp")?;
    let end = parse_int_param(req, "end_timestamp")?;
    let fields: Vec<(&str, Option<String>)> = ["platform", "task_id", "status", "action"]
        .iter()
        .map(|f| (*f, req.filter(f)))
        .collect();
    Ok(tasks()
        .into_iter()
        .filter(|t| in_range(t["submit_time"].as_i64(), start, end))
        .filter(|t| fields.iter().all(|(f, want)| matches_str(t, f, want)))
        .collect())
}
