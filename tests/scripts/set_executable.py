"""multiprocessing.set_executable() to a stock interpreter under cpmp run
(run.bats): its children load what cpmp sends, and run unpatched."""
import multiprocessing as mp, sys
if __name__ == "__main__":
    mp.set_executable(sys.argv[1])
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as p:
        print(p.map(lambda x: x + 1, [1, 2]))
        try:
            p.apply(lambda: (lambda: 0))
        except Exception as e:
            print(type(e).__name__)
