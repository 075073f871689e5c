import jinja2


def test_a_template_renders():
    assert jinja2.Template("{{ a }}-{{ b }}").render(a=1, b=2) == "1-2"
