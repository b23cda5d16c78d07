"""The Python API for people who can edit their code (see api.bats)."""
import io, sys, types, multiprocessing as mp
import cpmp
class Secret:
    def __init__(self, v): self.v = v
if __name__ == "__main__":
    k = 5
    data = cpmp.dumps(lambda x: x * k)
    print(cpmp.loads(data)(2), cpmp.is_patched())
    print(cpmp.loads(cpmp.dumps(Secret(3), reducers={Secret: lambda o: (str, ("reduced %d" % o.v,))})), type(cpmp.loads(cpmp.dumps(Secret(3)))).__name__)
    buf = io.BytesIO(); cpmp.dump([lambda: "in a file"], buf); buf.seek(0); print(cpmp.load(buf)[0]())
    with cpmp.patched():
        print("inside", cpmp.is_patched())
    print("after", cpmp.is_patched())
    dyn = types.ModuleType("dynmod")
    exec("SCALE = 7\ndef scale(x):\n    return x * SCALE\n", dyn.__dict__)
    sys.modules["dynmod"] = dyn
    from concurrent.futures import ProcessPoolExecutor
    with cpmp.patched():
        with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as ex:
            try:
                ex.submit(dyn.scale, 1).result()
            except Exception as e:
                print("not registered:", type(e).__name__)
        cpmp.register_by_value(dyn)
        with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as ex:
            print("registered:", ex.submit(dyn.scale, 2).result())
