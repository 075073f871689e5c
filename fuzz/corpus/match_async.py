match command.split():
    case [Point(x=0)] if ok(x):
        pass
async def g():
    async with a() as b, c():
        await d()
