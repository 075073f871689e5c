"""CSV rendering of reports (pure logic)."""

from shop.reports import money_column, render_csv


def test_render_csv():
    assert render_csv(("a", "b"), [(1, "x"), (2, "y,z")]) == 'a,b\n1,x\n2,"y,z"\n'


def test_render_empty():
    assert render_csv(("status",), []) == "status\n"


def test_money_column():
    assert money_column([("paid", 2, 1999)], 2) == [["paid", 2, "€19.99"]]


def test_money_column_currency():
    assert money_column([(5,)], 0, "USD") == [["$0.05"]]
