import attrs


def test_frozen_instances_compare_by_value():
    @attrs.frozen
    class Point:
        x: int
        y: int

    assert Point(1, 2) == Point(1, 2)
