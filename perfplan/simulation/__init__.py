"""`perfplan simulate`: a plan's life played on a throwaway database with the real
sweep and dispatcher, day by day, to see what it would send before anyone is asked.

    script    the events file (who does what when), checked line by line
    actors    what the simulated people do on time, read from the definition
    runner    the days: sweep each morning, then the scripted and on-time steps
    timeline  what the run saw, typed, and as a Rich table or JSON
"""
