import click
from click.testing import CliRunner
from envlib.formats import slug


def test_a_command_slugs_its_argument():
    @click.command()
    @click.argument("text")
    def main(text):
        click.echo(slug(text))

    result = CliRunner().invoke(main, ["Two Words"])
    assert result.output == "two-words\n"
