//! Python exceptions as the external API reports them (JSON-RPC error objects, XML-RPC
//! faults), the ORM's messages, and Python `repr` for the messages that quote arguments.

use serde_json::{json, Value};

use super::schema::{Field, Model};

/// Python exception classes the sandbox raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Exc {
    User,
    Validation,
    Missing,
    AccessError,
    AccessDenied,
    Value,
    Type,
    Attribute,
    Key,
    Name,
    Operational,
    DatetimeFormat,
    NotImplemented,
    Overflow,
    Expat,
}

impl Exc {
    /// `module.Class` as in JSON-RPC `error.data.name`.
    fn qualname(self) -> &'static str {
        match self {
            Exc::User => "odoo.exceptions.UserError",
            Exc::Validation => "odoo.exceptions.ValidationError",
            Exc::Missing => "odoo.exceptions.MissingError",
            Exc::AccessError => "odoo.exceptions.AccessError",
            Exc::AccessDenied => "odoo.exceptions.AccessDenied",
            Exc::Value => "builtins.ValueError",
            Exc::Type => "builtins.TypeError",
            Exc::Attribute => "builtins.AttributeError",
            Exc::Key => "builtins.KeyError",
            Exc::Name => "builtins.NameError",
            Exc::Operational => "psycopg2.OperationalError",
            Exc::DatetimeFormat => "psycopg2.errors.InvalidDatetimeFormat",
            Exc::NotImplemented => "builtins.NotImplementedError",
            Exc::Overflow => "builtins.OverflowError",
            Exc::Expat => "xml.parsers.expat.ExpatError",
        }
    }

    pub(super) fn class(self) -> &'static str {
        let q = self.qualname();
        q.rsplit('.').next().unwrap_or(q)
    }

    /// How Python prints the class on a traceback's last line.
    fn traceback_name(self) -> &'static str {
        let q = self.qualname();
        q.strip_prefix("builtins.").unwrap_or(q)
    }

    /// `/xmlrpc/2` faultCode [§4]: RedirectWarning/AccessError/AccessDenied/
    /// UserError are tested in that order (AccessError is a UserError).
    pub(super) fn code(self) -> i64 {
        match self {
            Exc::AccessError => 4,
            Exc::AccessDenied => 3,
            Exc::User | Exc::Validation | Exc::Missing => 2,
            _ => 1,
        }
    }
}

/// A raised exception.
#[derive(Clone, Debug)]
pub(super) struct Fault {
    pub(super) exc: Exc,
    pub(super) msg: String,
}

pub(super) type R<T> = Result<T, Fault>;

pub(super) fn fault(exc: Exc, msg: impl Into<String>) -> Fault {
    Fault {
        exc,
        msg: msg.into(),
    }
}

pub(super) fn value_err(msg: impl Into<String>) -> Fault {
    fault(Exc::Value, msg)
}

pub(super) fn user_err(msg: impl Into<String>) -> Fault {
    fault(Exc::User, msg)
}

pub(super) fn validation(msg: impl Into<String>) -> Fault {
    fault(Exc::Validation, msg)
}

pub(super) fn type_err(msg: impl Into<String>) -> Fault {
    fault(Exc::Type, msg)
}

pub(super) fn access_denied() -> Fault {
    fault(Exc::AccessDenied, "Access Denied")
}

impl Fault {
    /// A plausible server traceback whose last line is `ExcType: message`.
    pub(super) fn traceback(&self) -> String {
        format!(
            "Traceback (most recent call last):\n  \
             File \"/usr/lib/python3/dist-packages/odoo/service/model.py\", line 156, in retrying\n    \
             result = func()\n  \
             File \"/usr/lib/python3/dist-packages/odoo/service/model.py\", line 69, in execute_kw\n    \
             return execute(db, uid, obj, method, *args, **kw or {{}})\n{}: {}\n",
            self.exc.traceback_name(),
            self.msg
        )
    }

    /// `/xmlrpc/2` faultString: the message, or the traceback for code 1.
    pub(super) fn fault_string(&self) -> String {
        if self.exc.code() == 1 {
            self.traceback()
        } else {
            self.msg.clone()
        }
    }

    /// JSON-RPC `error` object (HTTP 200) [§4].
    pub(super) fn json_error(&self) -> Value {
        json!({
            "code": 200,
            "message": "Odoo Server Error",
            "data": {
                "name": self.exc.qualname(),
                "debug": self.traceback(),
                "message": self.msg,
                "arguments": [self.msg],
                "context": {},
            }
        })
    }
}

/// Python `repr` of a JSON value (for messages that quote arguments).
pub(super) fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                if f.fract() == 0.0 && f.abs() < 1e16 {
                    format!("{f:.1}")
                } else {
                    format!("{f}")
                }
            } else {
                n.to_string()
            }
        }
        Value::String(s) => {
            if s.contains('\'') && !s.contains('"') {
                format!("\"{s}\"")
            } else {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
        Value::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("{}: {}", py_repr(&json!(k)), py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python repr of a leaf once normalised to a tuple: `('name', '=', 1)`.
pub(super) fn leaf_repr(items: &[Value]) -> String {
    let inner: Vec<String> = items.iter().map(py_repr).collect();
    if inner.len() == 1 {
        format!("({},)", inner[0])
    } else {
        format!("({})", inner.join(", "))
    }
}

/// `res.partner(5, 6)` / `res.partner(999999,)`.
fn recordset_repr(model: &str, ids: &[i64]) -> String {
    let inner: Vec<String> = ids.iter().map(i64::to_string).collect();
    if inner.len() == 1 {
        format!("{model}({},)", inner[0])
    } else {
        format!("{model}({})", inner.join(", "))
    }
}

fn table_name(model: &str) -> String {
    model.replace('.', "_")
}

pub(super) fn not_null_error(m: &Model, f: &Field) -> Fault {
    validation(format!(
        "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n\
         - Delete: another model requires the record being deleted. If possible, archive it \
         instead.\n\nModel: {} ({})\nField: {} ({})\n",
        m.description, m.name, f.string, f.name
    ))
}

pub(super) fn fk_error(m: &Model, field: &str) -> Fault {
    validation(format!(
        "The operation cannot be completed: another model requires the record being deleted. \
         If possible, archive it instead.\n\nModel: {} ({})\nConstraint: {}_{}_fkey\n",
        m.description,
        m.name,
        table_name(m.name),
        field
    ))
}

pub(super) fn missing_error(model: &str, ids: &[i64], uid: i64) -> Fault {
    fault(
        Exc::Missing,
        format!(
            "Record does not exist or has been deleted.\n(Record: {}, User: {uid})",
            recordset_repr(model, ids)
        ),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn python_reprs() {
        assert_eq!(
            leaf_repr(&[json!("a"), json!("="), json!(1)]),
            "('a', '=', 1)"
        );
        assert_eq!(
            py_repr(&json!([true, null, 1.0, "it's"])),
            "[True, None, 1.0, \"it's\"]"
        );
        assert_eq!(recordset_repr("res.partner", &[5, 6]), "res.partner(5, 6)");
    }
}
