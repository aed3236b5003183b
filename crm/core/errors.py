"""Error pages in Chinese, never a stack trace."""

from flask import Flask, current_app, g, jsonify, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from crm.extensions import db, login_manager
from crm.http import wants_json

MESSAGES = {
    400: ("请求有误", "提交的内容无法处理，请返回重试。"),
    403: ("没有权限", "您的账号无权访问此页面。"),
    404: ("页面不存在", "您要找的页面不存在，或您无权查看。"),
    405: ("请求方式不正确", "此页面不接受这种请求。"),
    413: ("文件太大", "上传的文件超过了允许的大小。"),
    429: ("尝试次数过多", "操作过于频繁，请稍后再试。"),
    500: ("系统出错了", "服务器处理时出错，我们已记录，请稍后再试。"),
    503: (
        "暂时无法访问",
        "系统暂时无法访问，请稍后再试。已填写的内容请不要关闭页面；手机上保存的走访会在恢复后自动同步。",
    ),
}


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(InterfaceError, _database_unavailable)
    app.register_error_handler(Exception, _unexpected_error)


def _page(code: int, message: str | None = None):
    title, default = MESSAGES.get(code, MESSAGES[500] if code >= 500 else MESSAGES[400])
    if wants_json():
        return jsonify(error=message or default), code
    return render_template("error.html", code=code, title=title, message=message or default), code


def _http_error(error: HTTPException):
    return _page(error.code or 500)


def _csrf_error(error: CSRFError):
    return _page(400, "页面已过期，请刷新后重新提交。")


def _database_unavailable(error: Exception):
    """The database is down or unreachable: a page that says so, 503, and when to try again
    (the phone's outbox keeps what it holds and retries)."""
    db.session.rollback()
    current_app.logger.error("database unavailable: %s", error)
    # The page must not ask the database who is signed in: shown as to a visitor.
    g._login_user = login_manager.anonymous_user()
    response, code = _page(503)
    return response, code, {"Retry-After": "30"}


def _unexpected_error(error: Exception):
    db.session.rollback()
    propagate = current_app.config["PROPAGATE_EXCEPTIONS"]
    if propagate is None:
        propagate = current_app.testing or current_app.debug
    if propagate:
        raise error
    current_app.logger.exception("unhandled error")
    return _page(500)
