"""The %h2ogpt magics on a real IPython shell, the kernel spec, load time."""
