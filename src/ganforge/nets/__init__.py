"""Networks: the generators and discriminators recipes name by ``type`` (``mlp``, ``dcgan``, ``gru``...,
registered in :data:`ganforge.gans.registry.NETWORKS`), the translators of CycleGAN / Pix2Pix / SRGAN
(``translation``, ``unet``, ``superres``), StyleGAN's and LAPGAN's (``style``, ``pyramid``), the text encoder
(``text``), and the shipped scoring networks with their weights in ``weights/`` (digits classifier, photo
features, scene segmenters, shapes classifier). A network a user writes is any ``torch.nn.Module``:
``gf.GAN(MyG(), MyD(), noise_dim=...)`` needs nothing from here.
"""
